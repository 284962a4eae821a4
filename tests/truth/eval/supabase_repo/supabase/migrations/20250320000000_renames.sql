-- Posts become articles-like: `body` is now `content_md`, drafts are tracked by status.
alter table public.posts rename column body to content_md;
alter table public.posts add column status text not null default 'draft';
alter table public.posts drop column published;

-- `comments.content` was ambiguous next to posts' markdown.
alter table public.comments rename column content to body;

-- Order lines got a clearer name.
alter table public.order_items rename to order_lines;
alter table public.order_lines add column discount_cents integer not null default 0;

alter table public.profiles drop column website;
alter table public.profiles add column bio text;

create view public.published_posts as
  select id, author_id, title, content_md, created_at
  from public.posts
  where status = 'published';
