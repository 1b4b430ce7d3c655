"""What every benchmark sends: the API key the fake accepts by default, and a valid create body
for each provider (the happy path: credits are unlimited by default)."""

KEY = "mock-key"
EVOLINK_BODY = {
    "model": "kling-o1-image-to-video",
    "prompt": "A cat walking",
    "image_urls": ["https://example.com/first-frame.jpg"],
    "duration": 5,
    "aspect_ratio": "16:9",
}
AIMLAPI_BODY = {
    "model": "klingai/video-o1-image-to-video",
    "prompt": "Mona Lisa puts on glasses",
    "image_url": "https://example.com/mona.jpg",
    "duration": "5",
}
