from glyph_cli.main import main

raise SystemExit(main())
