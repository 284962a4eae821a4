alter table public.posts rename column body to content;
alter table public.posts add column published boolean not null default false,
  add column slug text;
drop table if exists legacy_notes;

create or replace view public.post_summaries as
  select p.id, p.title, pr.username as author_name, p.created_at::date as day
  from public.posts p join public.profiles pr on pr.id = p.author_id
  where p.published;

create view public.everything as select * from public.posts;

create or replace function public.search_posts(query text)
returns setof public.posts
language sql stable
as $$ select * from public.posts where title ilike '%' || query || '%' $$;

create schema if not exists billing;
create table billing.invoices (
  id bigint generated always as identity primary key,
  profile_id uuid references public.profiles (id),
  amount_cents integer not null,
  status text not null default 'open'
);

do $$ begin raise notice 'publishing ready'; end $$;
