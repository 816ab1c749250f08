variable "namespace" {
  description = "Namespace of the monitoring stack (Prometheus, Alertmanager, Grafana, Pushgateway)."
  type        = string
  default     = "monitoring"
}

variable "app_namespace" {
  description = "Namespace of the RagFunctions pods (keda/ overlays); the only namespace allowed to push."
  type        = string
  default     = "rag"
}

variable "environment" {
  description = "Value of the environment label the app stamps on every rag_ series (Rag:Environment)."
  type        = string
}

variable "daily_budget_usd" {
  description = "DailyBudgetExceeded threshold, USD per UTC day."
  type        = number
}

variable "monthly_budget_usd" {
  description = "MonthlyBudgetExceeded threshold, USD per UTC month."
  type        = number
}

variable "burn_rate_hours" {
  description = "BudgetBurnRateHigh fires when, at the last hour's rate, the daily budget is gone in fewer hours than this."
  type        = number
  default     = 6
}

variable "runbook_base_url" {
  description = "Base URL of the runbook corpus; alerts link to <base>/runbooks/<alert>.md."
  type        = string
}

variable "grafana_admin_password" {
  description = "Grafana admin password. Leave null to generate one (read it with `terraform output -raw grafana_admin_password`)."
  type        = string
  default     = null
  sensitive   = true

  validation {
    condition     = var.grafana_admin_password == null || try(length(var.grafana_admin_password) >= 12 && lower(var.grafana_admin_password) != "admin", false)
    error_message = "grafana_admin_password must be at least 12 characters (and never \"admin\"), or null to generate one."
  }
}

variable "grafana_service_type" {
  description = "Grafana Service type. ClusterIP: reach it with kubectl port-forward or an Ingress you own."
  type        = string
  default     = "ClusterIP"

  validation {
    condition     = contains(["ClusterIP", "NodePort", "LoadBalancer"], var.grafana_service_type)
    error_message = "grafana_service_type must be ClusterIP, NodePort or LoadBalancer."
  }
}

variable "alert_webhook_url" {
  description = "Alertmanager webhook receiver URL (warning and critical alerts)."
  type        = string
  sensitive   = true
}

variable "slack_webhook_url" {
  description = "Slack incoming-webhook URL for critical alerts."
  type        = string
  sensitive   = true
}

variable "slack_channel" {
  description = "Slack channel for critical alerts."
  type        = string
  default     = "#rag-alerts"
}

variable "pushgateway_username" {
  description = "Basic-auth user the pods push as (Rag:Push:Username)."
  type        = string
  default     = "rag-pusher"
}

variable "keda_namespace" {
  description = "Namespace of KEDA and its HTTP add-on, whose scaler pods are scraped."
  type        = string
  default     = "keda"
}

variable "prometheus_storage_size" {
  description = "Size of Prometheus' TSDB volume, in Gi. The monthly spend panels need > 31 days of retention."
  type        = string
  default     = "20Gi"

  validation {
    condition     = can(regex("^[0-9]+Gi$", var.prometheus_storage_size))
    error_message = "prometheus_storage_size must be a whole number of Gi, e.g. \"20Gi\"."
  }
}

variable "prometheus_retention_size" {
  description = "Prometheus retentionSize, in GB (Prometheus' GB is 2^30 bytes, like Gi). The oldest blocks are dropped past it, so the volume never fills; keep it at most 85 % of prometheus_storage_size, the rest is for the WAL."
  type        = string
  default     = "16GB"

  validation {
    condition = try(
      tonumber(trimsuffix(var.prometheus_retention_size, "GB")) <= 0.85 * tonumber(trimsuffix(var.prometheus_storage_size, "Gi"))
      && can(regex("^[0-9]+GB$", var.prometheus_retention_size)),
      false
    )
    error_message = "prometheus_retention_size must be a whole number of GB, at most 85 % of prometheus_storage_size (e.g. \"16GB\" for \"20Gi\")."
  }
}

variable "dashboards_dir" {
  description = "Folder of Grafana dashboard JSON files; each becomes a sidecar-loaded ConfigMap."
  type        = string
  default     = null
}

variable "grafana_folder" {
  description = "Grafana folder the RagFunctions dashboards are filed under."
  type        = string
  default     = "RagFunctions"
}
