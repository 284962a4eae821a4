create table public.comments (
  id bigint generated always as identity primary key,
  post_id bigint not null references public.posts (id) on delete cascade,
  author_id uuid not null,
  content text not null,
  created_at timestamptz not null default now(),
  constraint comments_writer foreign key (author_id) references public.profiles (id)
);

-- Keep a count of comments on each post; the body holds semicolons of its own.
alter table public.posts add column comment_count integer not null default 0;

create or replace function public.bump_comment_count()
returns trigger
language plpgsql
security definer
as $$
begin
  update public.posts set comment_count = comment_count + 1 where id = new.post_id;
  return new;
end;
$$;

create trigger comments_bump after insert on public.comments
  for each row execute function public.bump_comment_count();
