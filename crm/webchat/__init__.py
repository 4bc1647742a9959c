"""Web chat: a floating chat box a business's site loads from us (chat.js), on the WebForm's settings."""
