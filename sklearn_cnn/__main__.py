import sys

from sklearn_cnn._cli.main import main

sys.exit(main())
