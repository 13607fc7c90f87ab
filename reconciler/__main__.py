"""`python -m reconciler`: the same CLI as `reconcile`, where no script is on PATH."""

from reconciler.cli import main

main()
