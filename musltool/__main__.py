"""`python -m musltool ...`: the `musltool` command."""

from musltool.tasks import program

if __name__ == "__main__":
    program.run()
