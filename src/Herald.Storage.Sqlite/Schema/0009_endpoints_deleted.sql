-- The workers look once a second for pending notifications of endpoints deleted in the last few
-- minutes (a change rendered while its endpoint was listed can commit after the delete): this
-- index holds only deleted endpoints, so that look costs nothing however many endpoints there are.
CREATE INDEX endpoints_deleted ON endpoints(deleted_at) WHERE deleted_at IS NOT NULL;
