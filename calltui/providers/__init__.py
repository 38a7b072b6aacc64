"""Provider adapters: one module per provider, each exporting PROVIDER (a base.Provider)."""
