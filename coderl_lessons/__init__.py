"""coderl-lessons: the helper package of a course on reinforcement learning for code agents."""

__version__ = "0.1.0"
