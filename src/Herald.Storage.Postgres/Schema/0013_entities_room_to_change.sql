-- An entity's row is updated at each of its changes (state, version, document), and none of those
-- columns is indexed, so PostgreSQL can update it in place (a HOT update: no new entry in the
-- primary key, the old version pruned from the page) when the page has room. Entities are written
-- in the order they are created, so at the default fill factor the pages of recent entities, the
-- ones that change, are full, and every change of an entity put its new version on another page
-- with a new key entry. New pages now keep a fifth free, room for a change or two of the entities
-- on them (the old versions are pruned as the page fills); pages already full stay as they are.
ALTER TABLE entities SET (fillfactor = 80);
