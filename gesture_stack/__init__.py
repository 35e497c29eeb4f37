"""gesture-stack: gesture detection on tiny devices and the cloud behind them."""
