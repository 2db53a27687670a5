create table products (
  id serial primary key,
  sku text not null unique,
  name text not null,
  price_cents integer not null check (price_cents >= 0),
  created_at timestamptz not null default now()
);

insert into products (sku, name, price_cents) values
  ('MUG-001', 'Enamel mug', 1200),
  ('TEE-002', 'Ops team t-shirt', 2400),
  ('STK-003', 'Sticker pack', 500);
