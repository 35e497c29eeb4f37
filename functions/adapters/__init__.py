"""Small adapters that hide DynamoDB and S3 behind a few methods each."""
