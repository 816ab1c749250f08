variable "kubeconfig_path" {
  description = "Kubeconfig of the target cluster (aws eks update-kubeconfig / az aks get-credentials writes it)."
  type        = string
  default     = "~/.kube/config"
}

variable "kube_context" {
  description = "Kubeconfig context of the production cluster."
  type        = string
}

variable "grafana_admin_password" {
  description = "Grafana admin password; null generates one."
  type        = string
  default     = null
  sensitive   = true
}

variable "alert_webhook_url" {
  description = "Alertmanager webhook receiver URL (e.g. your paging system's webhook)."
  type        = string
  sensitive   = true
}

variable "slack_webhook_url" {
  description = "Slack incoming-webhook URL for critical alerts."
  type        = string
  sensitive   = true
}

variable "daily_budget_usd" {
  description = "Daily LLM budget, USD."
  type        = number
}

variable "monthly_budget_usd" {
  description = "Monthly LLM budget, USD."
  type        = number
}

variable "tenants" {
  description = "Allow-listed tenants and their USD limits (see modules/monitoring tenants)."
  type = list(object({
    key_name         = optional(string)
    name             = string
    daily_soft_usd   = optional(number)
    daily_hard_usd   = optional(number)
    monthly_soft_usd = optional(number)
    monthly_hard_usd = optional(number)
  }))
  default = []
}
