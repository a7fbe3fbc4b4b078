"""The method core: pure Python and numpy, no Django import anywhere in this package."""
