-- Initial schema: profiles mirror auth.users, posts belong to profiles.
create extension if not exists "uuid-ossp" with schema extensions;

create table if not exists public.profiles (
  id uuid primary key references auth.users (id) on delete cascade,
  username text unique not null,
  "avatarUrl" text,
  created_at timestamptz not null default now()
);

create table public.posts (
  id bigint generated always as identity primary key,
  author_id uuid not null references public.profiles (id),
  title text not null,
  body text,
  metadata jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now()
);

create table legacy_notes (id serial primary key, note text);

alter table public.posts enable row level security;

create policy "Posts are readable by everyone"
  on public.posts for select
  using (true);

create policy "Authors edit their posts"
  on public.posts for update
  using (auth.uid() = author_id);
