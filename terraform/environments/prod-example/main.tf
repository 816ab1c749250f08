# Example for a managed cluster (EKS/AKS). Copy this folder, add a remote backend, and fill terraform.tfvars.
module "monitoring" {
  source = "../../modules/monitoring"

  environment               = "prod"
  daily_budget_usd          = var.daily_budget_usd
  monthly_budget_usd        = var.monthly_budget_usd
  tenants                   = var.tenants
  burn_rate_hours           = 6
  runbook_base_url          = "https://github.com/ragfunctions/ragfunctions/blob/main/functions/corpus"
  grafana_admin_password    = var.grafana_admin_password
  alert_webhook_url         = var.alert_webhook_url
  slack_webhook_url         = var.slack_webhook_url
  slack_channel             = "#rag-prod-alerts"
  prometheus_storage_size   = "50Gi"
  prometheus_retention_size = "42GB"
}

module "keda" {
  source = "../../modules/keda"

  # Production traffic: the chart defaults (3 interceptors, 3 scalers) for availability.
  interceptor_min_replicas = 3
  scaler_replicas          = 3

  depends_on = [module.monitoring]
}
