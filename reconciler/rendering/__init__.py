"""Turning a plan into something a person or a program reads."""
