"""Categories, threads, posts, likes, mentions and search."""
