"""The AWS stack emulated on a laptop (see localcloud/README.md)."""
