"""The model: Cloud Run services, their instances and autoscalers, Cloud KMS and Cloud EKM, on SimPy."""
