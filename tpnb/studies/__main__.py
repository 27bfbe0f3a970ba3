"""python -m tpnb.studies [list | status | run NAME... | run all] (TPNB_QUICK=1 for quick mode)."""
import argparse

from . import STUDIES, StudyResults


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tpnb.studies", description=__doc__)
    parser.add_argument("command", choices=["list", "status", "run"])
    parser.add_argument("names", nargs="*", help="study names, or 'all'")
    args = parser.parse_args(argv)
    names = list(STUDIES) if not args.names or args.names == ["all"] else args.names
    for name in names:
        if args.command == "list":
            print(f"{name} (v{STUDIES[name].version}): {STUDIES[name].description}")
            continue
        results = StudyResults(name)
        if args.command == "status":
            print(f"{name}: {len(results.specs) - len(results.stale)}/{len(results.specs)} runs fresh "
                  f"in {results.path}")
        else:
            results.run(progress=True)
            print(f"{name}: done, {results.path}")


if __name__ == "__main__":
    main()
