import sys

from gdcore.cli import main

sys.exit(main())
