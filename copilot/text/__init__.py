"""Text processing with no knowledge of the store: cleaning, chunking, personal-data masking, injection detection."""
