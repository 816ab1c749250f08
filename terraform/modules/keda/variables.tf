variable "namespace" {
  description = "Namespace for KEDA and its HTTP add-on. The keda/ ScaledObject names the add-on's scaler as keda-add-ons-http-external-scaler.keda:9090."
  type        = string
  default     = "keda"
}

variable "interceptor_min_replicas" {
  description = "Minimum HTTP add-on interceptor replicas (chart default 3 is sized for production; 1 suits minikube)."
  type        = number
  default     = 1
}

variable "scaler_replicas" {
  description = "HTTP add-on external scaler replicas (chart default 3)."
  type        = number
  default     = 1
}
