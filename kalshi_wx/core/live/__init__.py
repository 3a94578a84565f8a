"""Live trading state, pure: order books from the WebSocket and the snapshot rows recorded from them."""
