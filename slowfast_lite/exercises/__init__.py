"""Self-checks for the notebooks' exercises, one module per notebook topic.

Each ``check_*`` function prints what is right or wrong about a learner's answer and returns True/False.
"""
