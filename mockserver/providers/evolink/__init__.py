"""The EvoLink-style API (`openapi/evolink.yaml`), at `/v1/...` and under the mirror's `/apiv1`."""
