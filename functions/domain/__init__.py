"""Pure business rules: no AWS, no HTTP; inputs are validated models and plain values."""
