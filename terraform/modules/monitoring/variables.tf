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

variable "tenants" {
  description = "Allow-listed tenants (Rag:Tenants): the function key name callers use, the tenant name, and its USD limits (null: none). Unknown callers are the tenant \"default\"; list it without key_name to give it limits."
  type = list(object({
    key_name         = optional(string)
    name             = string
    daily_soft_usd   = optional(number)
    daily_hard_usd   = optional(number)
    monthly_soft_usd = optional(number)
    monthly_hard_usd = optional(number)
  }))
  default = []

  validation {
    condition     = length(var.tenants) <= 49 && alltrue([for t in var.tenants : can(regex("^[a-z][a-z0-9_-]{0,31}$", t.name)) && (t.key_name != null || t.name == "default")])
    error_message = "tenants: at most 49 (with \"default\" the app's cap of 50), names of 1-32 lowercase letters, digits, '_' or '-' starting with a letter, and a key_name for every tenant but \"default\"."
  }
}

variable "budget_soft_fraction" {
  description = "The global soft limits (TenantBudgetWarning for tenant=\"_all\") as a fraction of daily_budget_usd and monthly_budget_usd, the global hard limits."
  type        = number
  default     = 0.8

  validation {
    condition     = var.budget_soft_fraction > 0 && var.budget_soft_fraction <= 1
    error_message = "budget_soft_fraction must be in (0, 1]."
  }
}
