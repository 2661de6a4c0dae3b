"""The demo operators the browser tests sign in as (identity demo seed)."""

MINISTRY, BEIJING, TIANJIN = "demo-ministry", "demo-beijing-operator", "demo-tianjin-operator"
