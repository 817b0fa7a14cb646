"""Loss functions the methods and regularisers share (one loss per module, paper cited)."""
