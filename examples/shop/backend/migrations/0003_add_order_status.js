/** Orders get a lifecycle: pending → paid → shipped (or cancelled). */

export async function up({ context: { client } }) {
  await client.query(`
    alter table orders
      add column status text not null default 'pending'
      constraint orders_status_check check (status in ('pending', 'paid', 'shipped', 'cancelled'))
  `);
}

export async function down({ context: { client } }) {
  await client.query('alter table orders drop column status');
}
