"""`python -m consult ...`: the same as the `consult` console script."""

from consult.cli import main

if __name__ == "__main__":
    main()
