variable "kubeconfig_path" {
  description = "Kubeconfig of the target cluster."
  type        = string
  default     = "~/.kube/config"
}

variable "kube_context" {
  description = "Kubeconfig context (minikube's default context is \"minikube\")."
  type        = string
  default     = "minikube"
}

variable "grafana_admin_password" {
  description = "Grafana admin password; null generates one (terraform output -raw grafana_admin_password)."
  type        = string
  default     = null
  sensitive   = true
}

variable "alert_webhook_url" {
  description = "Alertmanager webhook receiver URL."
  type        = string
  sensitive   = true
}

variable "slack_webhook_url" {
  description = "Slack incoming-webhook URL for critical alerts."
  type        = string
  sensitive   = true
}
