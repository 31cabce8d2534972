from vfi.cli import main

main()
