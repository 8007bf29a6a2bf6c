-- Odoo export (issue 5): which res.partner each company and contact became, per Odoo target.
-- A partner id is only meaningful inside one Odoo database, so the target (URL without
-- credentials + '|' + database, never a secret) is part of the key. contact_key is '' for the
-- company partner itself, else the contact's key (email:…, linkedin:…, name:…).
-- The mapping is a cache: every partner also carries ref = 'lead-enrich:<tenant>:<company>[:c:<hash>]',
-- which the export searches when the mapping is missing.
CREATE TABLE IF NOT EXISTS odoo_partner_map (
  tenant_id   bigint      NOT NULL,
  company_id  bigint      NOT NULL,
  odoo_target text        NOT NULL,
  contact_key text        NOT NULL DEFAULT '',
  partner_id  integer     NOT NULL CHECK (partner_id > 0),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, company_id, odoo_target, contact_key),
  FOREIGN KEY (tenant_id, company_id) REFERENCES companies (tenant_id, company_id) ON DELETE CASCADE
);
