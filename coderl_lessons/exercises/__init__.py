"""The course's graded exercises, one module per notebook; each module registers its exercises.

Every reference implementation here is what the exercise's check compares against, and is tested
in tests/ against an independent computation.
"""
