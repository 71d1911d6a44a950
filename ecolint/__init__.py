"""ecolint: find energy waste in LLM inference code and deploy configs."""

__version__ = "0.1.0"
