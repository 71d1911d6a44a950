"""Built-in ecolint rules, one rule per module (shipped inside the wheel as ``ecolint.rules``)."""
