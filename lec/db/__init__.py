"""The oracle's database: the report's schema (§4.3.6) in SQLModel; SQLite by default, PostgreSQL via DATABASE_URL.

Use: ``from lec.db.session import get_engine, init_db, session_scope`` and the classes in
:mod:`lec.db.models` (enums in :mod:`lec.db.enums`). Timestamps are aware UTC datetimes; energy is Wh.

Tables (model → table):
  Community communities (chain_community_id = Registry id) · User users (personal data, external_id = Keycloak sub)
  Role roles (DESIGN role names) · UserRole user_roles (user, community, role)
  UserCommunity user_communities (community, user, wallet, member_kind citizen|stakeholder,
      energy_profile consumer|prosumer|prostormer, active)
  Supplier suppliers · SupplierCommunity supplier_communities · MeasurementTable measurement_tables (1, 2)
  SignalLabel signal_labels · Flow flows (quantity load|production|exchange|storage|weather, frequencies, GDPR…)
  FlowCommunity flow_communities (account_consumption 0 none | 1 consumption | 2 production)
  Device devices (pod, community, user, kind, activated_at, min/max_energy_wh, max_power_w, default_flow_id)
  DeviceFlow device_flows · CounterReading counterreading (device, flow, community, timestamp UTC, energy_wh with
      the report's sign: load/withdrawal +, production/injection −, battery charge +; unique device+flow+timestamp)
  WeatherData weatherdata · Anomaly anomalies (reason code, message sentence, payload, status)
  IngestedFile ingested_files (sha256 of content) · DerivedTimeSeries derived_time_series (+ _data, _users, _devices)
  ClusterGroup cluster_groups · Cluster clusters · ClusterDerivedTimeSeries · ClusterUser · ClusterDevice
"""
