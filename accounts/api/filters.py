import django_filters
from django.db.models import Q

from accounts.models import User


class StaffUserFilterSet(django_filters.FilterSet):
    """Filters of the staff user list; ``search`` matches every word against email and names."""

    search = django_filters.CharFilter(method="filter_search", label="Words to find in email, first or last name.")

    class Meta:
        model = User
        fields = ("status", "is_active", "is_staff")

    def filter_search(self, queryset, name, value):
        for word in value.split()[:10]:
            queryset = queryset.filter(
                Q(email__icontains=word) | Q(first_name__icontains=word) | Q(last_name__icontains=word)
            )
        return queryset
