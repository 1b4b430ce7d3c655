"""The AI/ML API (`openapi/aimlapi.yaml`) at `/v2/video/generations`."""
