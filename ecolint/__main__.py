from ecolint.cli import main

raise SystemExit(main())
