"""Area queries."""

from sqlalchemy import inspect

from civic.areas.services import wards_with_boroughs
from civic.extensions import db


class TestWardsWithBoroughs:
    def test_ordered_by_borough_then_ward_with_parents_loaded(self, geography):
        wards = wards_with_boroughs()
        assert [w.id for w in wards] == [w.id for w in sorted(geography.wards, key=lambda w: (w.parent.name, w.name))]
        assert all("parent" not in inspect(w).unloaded for w in wards)

    def test_outlines_stay_in_the_database_unless_asked_for(self, geography):
        """The ward lists on forms must not pull every boundary on each request."""
        db.session.expire_all()
        wards = wards_with_boroughs()
        assert all("boundary" in inspect(w).unloaded for w in wards)
        assert all("boundary" in inspect(w.parent).unloaded for w in wards)

    def test_outlines_loaded_when_asked_for(self, geography):
        db.session.expire_all()
        wards = wards_with_boroughs(boundaries=True)
        assert all("boundary" not in inspect(w).unloaded and w.boundary for w in wards)
