-- up
create table orders (
  id serial primary key,
  product_id integer not null references products (id),
  quantity integer not null check (quantity between 1 and 100),
  -- AES-256-GCM ciphertext from utils/encryption.js, never the plain address
  customer_email text not null,
  created_at timestamptz not null default now()
);

create index orders_product_id_idx on orders (product_id);

-- down
drop table orders;
