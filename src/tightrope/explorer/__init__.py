"""The explorer: `tightrope explore`, a local web page to move a regime's levers and watch
the three goals respond while the runs go (docs/explorer.md)."""
