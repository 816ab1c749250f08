# minikube: `minikube start --cpus 4 --memory 8g`, then terraform init && terraform apply.
module "monitoring" {
  source = "../../modules/monitoring"

  environment        = "dev"
  daily_budget_usd   = 5
  monthly_budget_usd = 100
  # One tenant with a tiny budget, so a blocked tenant can be seen in dev; every other caller is "default".
  tenants                   = [{ key_name = "demo", name = "demo", daily_soft_usd = 0.05, daily_hard_usd = 0.1, monthly_hard_usd = 2 }]
  runbook_base_url          = "https://github.com/ragfunctions/ragfunctions/blob/main/functions/corpus"
  grafana_admin_password    = var.grafana_admin_password
  alert_webhook_url         = var.alert_webhook_url
  slack_webhook_url         = var.slack_webhook_url
  prometheus_storage_size   = "5Gi"
  prometheus_retention_size = "4GB"
}

module "keda" {
  source = "../../modules/keda"

  # KEDA's ServiceMonitors need the stack's CRDs.
  depends_on = [module.monitoring]
}
