from aigw.devtools.mock_provider.cli import main

if __name__ == "__main__":
    main()
