-- Demo products for a local shop (`opsctl db seed`). Idempotent: opsctl keeps no record of seeds run, so a product
-- already there (same sku) is left as it is.
insert into products (sku, name, price_cents) values
  ('CAP-004', 'Pager-duty cap', 1800),
  ('PIN-005', 'Green-build enamel pin', 300),
  ('BAG-006', 'Runbook tote bag', 1500)
on conflict (sku) do nothing;
